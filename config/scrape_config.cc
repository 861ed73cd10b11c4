#include "config/scrape_config.h"
