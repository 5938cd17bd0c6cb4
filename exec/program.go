package exec

// Function is a compiled fn, task, pipeline or method.
type Function struct {
	Name string
	Kind string // "fn", "task", "pipeline", "method"
}

// ActorClass is a compiled actor declaration.
type ActorClass struct {
	Name string
}

// CallSite is a task call site with its lineage annotation.
type CallSite struct{}
