#include "scrape/relabel.h"
