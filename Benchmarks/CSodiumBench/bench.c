#include "csodium_bench.h"
