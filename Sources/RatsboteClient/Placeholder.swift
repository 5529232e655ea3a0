// RatsboteClient: placeholder until its first file lands.
