"""Traffic work: accidents by the right procedure, violations with codes, plates, photos."""
