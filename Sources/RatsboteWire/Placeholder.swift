// RatsboteWire: placeholder until its first file lands.
