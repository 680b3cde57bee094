// KPProtoRuntime
