"""The visitor: identity cookie, snapshot, explicit choices (customization), login merge."""
