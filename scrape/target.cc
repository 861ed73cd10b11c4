#include "scrape/target.h"
