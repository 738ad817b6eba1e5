"""jiaoxun (交巡): operations platform of a merged traffic-and-patrol city police force."""

__version__ = "0.1.0"
