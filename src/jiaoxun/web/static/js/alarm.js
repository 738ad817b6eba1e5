// Alerts for someone who is not looking at the screen, like a pager: a beep pattern played by the
// Web Audio API (no sound file, nothing fetched), the phone's vibration, a system notification.
// A browser plays sound only after a user gesture: `armSound` unlocks it on the first tap.
// What was done is recorded in window.jx.alerts ({kind, order_id, at, …}) for tests to read.

// [frequency Hz (0: a pause), seconds] steps, repeated every `every_s` for at most `max_s`
const PATTERNS = {
  order: { steps: [[880, 0.18], [0, 0.08], [880, 0.18], [0, 0.08], [1320, 0.35]], every_s: 2, max_s: 60 },
  escalation: { steps: [[520, 0.45], [390, 0.45], [520, 0.45], [390, 0.45]], every_s: 3, max_s: 30 },
};

const GESTURES = ["pointerdown", "keydown", "touchend", "click"];

let audio = null; // the page's AudioContext, made on the first tap
let ringing = null; // { timer, until }

/** Add one entry to window.jx.alerts (the page sets window.jx; the list is made on first use). */
export function remember(kind, orderId, extra = {}) {
  window.jx ??= {};
  window.jx.alerts ??= [];
  window.jx.alerts.push({ kind, order_id: orderId, at: new Date().toISOString(), ...extra });
}

export function soundReady() {
  return audio?.state === "running";
}

/** Unlock sound on the page's first taps; `onChange(ready)` is told when it is unlocked. */
export function armSound(onChange = () => {}) {
  const unlock = async () => {
    const Context = window.AudioContext ?? window.webkitAudioContext;
    if (!Context) return;
    audio ??= new Context();
    if (audio.state !== "running") await audio.resume().catch(() => {});
    if (!soundReady()) return;
    for (const type of GESTURES) document.removeEventListener(type, unlock, true);
    onChange(true);
  };
  for (const type of GESTURES) document.addEventListener(type, unlock, true);
  onChange(soundReady());
}

/** Ring `pattern` ("order" or "escalation") now and again until `stopRinging()` or its limit. */
export function ring(pattern, { orderId = null } = {}) {
  const { steps, every_s, max_s } = PATTERNS[pattern];
  stopRinging();
  const until = Date.now() + max_s * 1000;
  const beep = () => {
    if (Date.now() > until) return stopRinging();
    if (soundReady()) play(steps);
  };
  beep();
  ringing = { timer: setInterval(beep, every_s * 1000), until };
  remember("ring", orderId, { pattern, audible: soundReady() });
}

export function stopRinging() {
  if (ringing) clearInterval(ringing.timer);
  ringing = null;
}

export function isRinging() {
  return ringing != null;
}

function play(steps) {
  let at = audio.currentTime + 0.02;
  for (const [hz, seconds] of steps) {
    if (hz > 0) {
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.type = "square";
      tone.frequency.value = hz;
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.3, at + 0.02); // no click at the edges
      volume.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
      tone.connect(volume).connect(audio.destination);
      tone.start(at);
      tone.stop(at + seconds + 0.02);
    }
    at += seconds;
  }
}

/** Vibrate the phone (milliseconds on, off, on…) where the browser can. */
export function vibrate(pattern, { orderId = null } = {}) {
  if (typeof navigator.vibrate !== "function") return false;
  const done = navigator.vibrate(pattern);
  remember("vibrate", orderId, { done });
  return done;
}

export function notificationsAllowed() {
  return "Notification" in window && Notification.permission === "granted";
}

/** A system notification, when allowed; a newer one with the same `tag` replaces it. Through
 * the page's service worker when it has one (what a phone's browser wants), else the page's. */
export async function notify(title, body, tag, { orderId = null } = {}) {
  if (!notificationsAllowed()) return false;
  const options = { body, tag: String(tag), renotify: true, requireInteraction: true };
  const worker = await navigator.serviceWorker?.getRegistration().catch(() => null);
  if (worker) await worker.showNotification(title, options);
  else new Notification(title, options);
  remember("notify", orderId, { via: worker ? "worker" : "page", tag: String(tag) });
  return true;
}

/** Ask for permission to notify: from a button's click (browsers refuse it otherwise). */
export async function askPermission() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.requestPermission();
}
