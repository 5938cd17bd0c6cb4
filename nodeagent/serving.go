package nodeagent

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// What a process that serves requests (package serve) needs of the
// runtime beyond what a program uses.

// AwaitResult waits up to timeout for f to be ready and reports whether
// it is. Unlike the runtime's Wait, it logs nothing for a replay: its
// caller is no task whose lineage a restart would run again (the ingress
// of `rayflow serve`, whose every request would otherwise leave a row).
// Its timers are reused (awaitTimers): a request allocates none.
func AwaitResult(f *exec.Future, timeout time.Duration) bool {
	o := objstore.ObjectOf(f)
	if o == nil {
		return false
	}
	done := o.Done()
	select {
	case <-done:
		return true
	default:
	}
	timer, _ := awaitTimers.Get().(*time.Timer)
	if timer == nil {
		timer = time.NewTimer(timeout)
	} else {
		timer.Reset(timeout)
	}
	defer func() {
		timer.Stop() // since Go 1.23 a stopped timer's channel holds no stale tick
		awaitTimers.Put(timer)
	}()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// awaitTimers are the stopped timers of AwaitResult.
var awaitTimers sync.Pool

// KeptCalls counts what this process keeps of the method calls it made
// on actors in other processes, for their restarts: the calls logged by
// the actors it created, the places of calls in their actors' order, and
// the calls kept on actors it was handed. They grow with the calls to an
// actor whose restart replays them; for a served actor (@serve, whose
// restart is fresh) they stay at the calls in flight (serve's tests).
// An embedded cluster keeps none.
func (c *Cluster) KeptCalls() (logged, places, kept int) {
	if c.net == nil {
		return 0, 0, 0
	}
	places, kept = c.net.ow.Orders().Len()
	return c.net.ow.LoggedCalls(), places, kept
}

// ServeApps returns the rows of the GCS's table of the applications of
// rayflow serve (gcs.TableServeApps), by name. An embedded cluster keeps
// them only with a data directory (as its statistics): without one it
// has none.
func (c *Cluster) ServeApps() ([]gcs.ServeApp, error) {
	return c.serveApps(context.Background(), false)
}

// ServeAppsApplied is ServeApps as a head has applied the table, without
// the raft barrier (a log write) of a linearizable read: for a poll,
// which may see a write a moment late. It gives up when ctx is done.
func (c *Cluster) ServeAppsApplied(ctx context.Context) ([]gcs.ServeApp, error) {
	return c.serveApps(ctx, true)
}

func (c *Cluster) serveApps(ctx context.Context, applied bool) ([]gcs.ServeApp, error) {
	if c.net == nil {
		st := c.appsStore()
		if st == nil {
			return nil, nil
		}
		if applied {
			return st.ListServeApps()
		}
		return st.ListServeApps(gcs.Linearizable)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var args []string
	if applied {
		args = append(args, wire.ServeAppsApplied)
	}
	b, err := c.net.hc.GCS(ctx, wire.GCSServeApps, wire.EncodeStrings(args...))
	if err != nil {
		return nil, err
	}
	ss, err := wire.DecodeStrings(b)
	if err != nil || len(ss)%3 != 0 {
		return nil, wire.ErrMalformed
	}
	var apps []gcs.ServeApp
	for i := 0; i < len(ss); i += 3 {
		v, err := strconv.ParseUint(ss[i+1], 10, 64)
		if err != nil {
			return nil, wire.ErrMalformed
		}
		apps = append(apps, gcs.ServeApp{Name: ss[i], Version: v, Record: []byte(ss[i+2])})
	}
	return apps, nil
}

// PutServeApp writes an application's row if the stored one is still at
// version prev (0: none stored). It returns false, and no error, when it
// is not: another deploy wrote it meanwhile.
func (c *Cluster) PutServeApp(app gcs.ServeApp, prev uint64) (bool, error) {
	if c.net == nil {
		st := c.appsStore()
		if st == nil {
			return true, nil
		}
		err := st.PutServeAppIf(app, prev).ErrorTimeout(5 * time.Second)
		if gcs.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.net.hc.GCS(ctx, wire.GCSPutServeApp, wire.EncodeStrings(app.Name,
		strconv.FormatUint(app.Version, 10), string(app.Record), strconv.FormatUint(prev, 10)))
	if err != nil {
		return false, err
	}
	return len(b) == 1 && b[0] == 1, nil
}

// DeleteServeApp removes an application's row.
func (c *Cluster) DeleteServeApp(name string) error {
	if c.net == nil {
		st := c.appsStore()
		if st == nil {
			return nil
		}
		return st.DeleteServeApp(name).ErrorTimeout(5 * time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.net.hc.GCS(ctx, wire.GCSDeleteServeApp, wire.EncodeStrings(name))
	return err
}

// appsStore is an embedded cluster's GCS when it outlives the process (a
// data directory), else nil.
func (c *Cluster) appsStore() *gcs.Store {
	if c.cfg.DataDir == "" {
		return nil
	}
	st, err := c.GCS()
	if err != nil {
		return nil
	}
	return st
}

// LivesHere reports whether the actor behind h lives in this process's
// node: one it hosts, or one whose last known address is this
// process's. An embedded cluster's actors all live here.
func (c *Cluster) LivesHere(h *exec.ActorHandle) bool {
	switch a := h.Handle.(type) {
	case *actorhost.Actor:
		return true
	case *owner.Actor:
		addr, _, _ := a.Whereabouts("")
		return c.net != nil && addr != "" && addr == c.net.addr
	}
	return false
}

// RequestThread returns a thread for one request of an ingress (package
// serve), whose calls get IDs under taskID (JOB.sN). Unlike NewThread it
// notes nothing of the job, which the ingress noted once with NewThread
// when it started the application: a request pays no lease round trip
// to the heads, and no driver bookkeeping.
func (c *Cluster) RequestThread(taskID string) *exec.Thread {
	return c.Head().threadFor(nil, "driver", taskID)
}

// ReleaseRequestThread gives back a thread of RequestThread whose
// request has its result: nothing may use th after.
func (c *Cluster) ReleaseRequestThread(th *exec.Thread) { c.Head().putSpareThread(th) }

// ServedFrames counts the frames of calls to served actors (@serve) this
// process sent and the calls they carried: concurrent requests share
// frames (owner/served.go; serve's tests).
func (c *Cluster) ServedFrames() (frames, calls int64) {
	if c.net == nil {
		return 0, 0
	}
	return c.net.ow.ServedSends()
}
