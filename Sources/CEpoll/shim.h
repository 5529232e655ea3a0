// Linux epoll and eventfd, which Swift's Glibc module does not export, and glibc's malloc_trim.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
