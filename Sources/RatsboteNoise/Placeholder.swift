// RatsboteNoise: placeholder until its first file lands.
