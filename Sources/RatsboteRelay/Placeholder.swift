// RatsboteRelay: placeholder until its first file lands.
