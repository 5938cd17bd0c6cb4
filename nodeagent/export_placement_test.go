package nodeagent

// ObjectsFetched counts the objects c's process fetched from other
// processes (for tests in package nodeagent_test).
func ObjectsFetched(c *Cluster) int64 { return c.net.fetches.Load() }
