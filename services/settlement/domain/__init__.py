"""Settlement arithmetic (FORMAT.md): weights, points or rates, point value, hospital statements. Pure."""
