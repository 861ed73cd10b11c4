#include "scrape/manager.h"
