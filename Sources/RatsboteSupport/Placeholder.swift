// RatsboteSupport: placeholder until its first file lands.
