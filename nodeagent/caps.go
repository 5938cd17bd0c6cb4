package nodeagent

import "sync"

// Job memory caps (run --max-memory).
//
// A driver's cap travels with its job's program, as its step limit does
// (programs.go: jobLimits). A process notes the cap of each job whose
// work starts on it (a task, an actor, a driver thread: before anything
// of the job is published there), and its nodes' object stores ask it
// for the cap of the job of each large value they are handed
// (objstore.Store.AddFor): a value that would take the job's bytes in
// one node's store past its cap fails with a "memory" error. Values that
// travel inline (objstore.InlineLimit) are not counted, so the task path
// of small results does not look the cap up at all.

// jobCaps are the memory caps of the jobs whose work ran here, by job ID;
// jobs without a cap are not kept. Its own (sync.Map's) lock; task
// workers, actor and driver threads note, object stores read, job
// release forgets.
type jobCaps struct{ m sync.Map }

// note records the cap of a job (nothing for 0: none).
func (c *jobCaps) note(job string, limit int64) {
	if limit <= 0 {
		return
	}
	if v, ok := c.m.Load(job); ok && v.(int64) == limit {
		return
	}
	c.m.Store(job, limit)
}

// CapOf is the cap of a job, 0 for none (objstore.Caps).
func (c *jobCaps) CapOf(job string) int64 {
	if v, ok := c.m.Load(job); ok {
		return v.(int64)
	}
	return 0
}

// forget drops the caps of jobs that ended.
func (c *jobCaps) forget(jobs []string) {
	for _, j := range jobs {
		c.m.Delete(j)
	}
}
