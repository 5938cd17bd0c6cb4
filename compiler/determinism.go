package compiler

// Determinism analysis.
//
// A function is deterministic unless it, or anything it calls, is
// nondeterministic: declared @nondeterministic, or calling a
// nondeterministic built-in or module member (time, io reads, random.new()
// without a seed, wait), or calling an actor method (the order in which
// an actor receives calls from different callers is not fixed). The
// analysis is a fixed point over the call graph, so mutual recursion is
// handled. Only nondeterministic steps need their outcomes logged for
// replay; deterministic tasks are replayed from their specification.

func analyseDeterminism(p *Program) {
	for _, f := range p.Funcs {
		if f.DeclaredNondeterministic && f.nondetReason == "" {
			f.nondetReason = "it is declared @nondeterministic"
		}
		f.Deterministic = f.nondetReason == ""
	}
	for changed := true; changed; {
		changed = false
		for _, f := range p.Funcs {
			if !f.Deterministic {
				continue
			}
			for _, callee := range f.callees {
				if !callee.Deterministic {
					f.Deterministic = false
					f.nondetReason = "it calls " + callee.Name + ", which is nondeterministic"
					changed = true
					break
				}
			}
		}
	}
}

// finishSites copies what the declarations say into each call site's
// lineage annotation, now that determinism is known.
func (c *compiler) finishSites() {
	for _, s := range c.prog.Sites {
		switch {
		case s.Func != nil:
			s.Resources = s.Func.Resources
			s.Retries = s.Func.Retries
			s.Deterministic = s.Func.Deterministic
		case s.Actor != nil:
			s.Resources = s.Actor.Resources
			s.Deterministic = true
		}
		if s.Kind == "method" {
			s.Deterministic = false
		}
	}
}
