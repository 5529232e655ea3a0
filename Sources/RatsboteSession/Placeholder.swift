// RatsboteSession: placeholder until its first file lands.
