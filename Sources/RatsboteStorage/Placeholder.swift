// RatsboteStorage: placeholder until its first file lands.
