// The HTTP surface: routes, API-key check, OpenAI-style error bodies, Server-Sent Events.
#pragma once

#include "tools/strata-server/api.h"
#include "tools/strata-server/metrics.h"
#include "tools/strata-server/options.h"
#include "tools/strata-server/scheduler.h"

#include <httplib.h>

void install_routes(httplib::Server& server, Scheduler& scheduler, Metrics& metrics,
                    const ModelText& model, const ServerOptions& options);
