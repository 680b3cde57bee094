// KPDatabase
