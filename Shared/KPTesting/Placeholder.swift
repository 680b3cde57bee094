// KPTesting
