// RatsboteNet: placeholder until its first file lands.
