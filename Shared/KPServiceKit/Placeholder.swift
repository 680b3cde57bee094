// KPServiceKit
