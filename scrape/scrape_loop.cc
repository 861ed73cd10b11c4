#include "scrape/scrape_loop.h"
