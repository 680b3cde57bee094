// KPProtocol
