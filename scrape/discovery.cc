#include "scrape/discovery.h"
