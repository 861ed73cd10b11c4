#include "scrape/http_client.h"
