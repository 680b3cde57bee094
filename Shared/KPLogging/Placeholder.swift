// KPLogging
