package nodeagent

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
)

// slowHolder is a process that holds one object and answers fetches of it
// only when released, counting them.
type slowHolder struct {
	fetches atomic.Int64
	started chan struct{}
	release chan struct{}
}

func (h *slowHolder) Serve(ctx context.Context, _ *transport.Peer, req *transport.Message) (*transport.Message, error) {
	if req.Type != transport.FetchObject {
		return nil, nil
	}
	h.fetches.Add(1)
	h.started <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r, size, err := exec.EncodeStream(exec.Int(42), nil)
	if err != nil {
		return nil, err
	}
	return transport.NewStreamReply(r, size), nil
}

// While a reader fetches a remote object, the object's lock is free:
// others can ask where it lives (what the spiller does when it sends a
// task that takes the object), which used to wait for the whole fetch or
// rebuild. Concurrent readers still share one fetch.
func TestRemoteFetchDoesNotHoldObjectLock(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	holder := &slowHolder{started: make(chan struct{}, 8), release: make(chan struct{})}
	srv, err := transport.Listen("127.0.0.1:0", holder, transport.Options{NodeID: "holder"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var wg sync.WaitGroup
	defer wg.Wait() // after the holder is released, below
	released := false
	defer func() {
		if !released {
			close(holder.release)
		}
	}()

	// The holder stands in for a member of the cluster: the head dials
	// only members (dialpolicy.go).
	head.Cluster.net.dials.vouch(srv.Addr(), time.Now())
	o := head.Cluster.net.remoteObject("jobf.1", "object jobf.1", srv.Addr())
	const readers = 4
	values := make(chan exec.Value, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := o.Result()
			if err != nil {
				t.Errorf("read: %v", err.Msg)
			}
			values <- v
		}()
	}
	select {
	case <-holder.started:
	case <-time.After(5 * time.Second):
		t.Fatal("no fetch reached the holder")
	}
	where := make(chan string, 1)
	go func() { where <- o.RemoteLocation() }()
	select {
	case loc := <-where:
		if loc != srv.Addr() {
			t.Fatalf("location during the fetch = %q", loc)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the object's lock is held while it is fetched")
	}
	close(holder.release)
	released = true
	wg.Wait()
	close(values)
	for v := range values {
		if v.AsInt() != 42 {
			t.Fatalf("read %v, want 42", v)
		}
	}
	if n := holder.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for %d concurrent readers, want 1", n, readers)
	}
	if o.RemoteLocation() != "" {
		t.Fatal("the fetched value is not kept here")
	}
}

// An object that holds an error is fetched as that error, whole (kind,
// message, task, node, stack, cause), and nothing tries to rebuild it:
// before, the fetch failed with the error's message as a transport error
// and the reader reported "could not be fetched ...: no lineage of it is
// kept here".
func TestFailedObjectFetchedAsItsError(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: 1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	defer head.Close()
	nw := head.Cluster.net
	want := &exec.Error{Kind: exec.KindUser, Msg: "bad input 1", Task: "boom", Node: "n2",
		Pos:   lang.Position{Filename: "prog.rayflow", Line: 3, Column: 16},
		Stack: []exec.Frame{{Pos: lang.Position{Filename: "prog.rayflow", Line: 3, Column: 16}, Name: "boom", Node: "n2"}},
		Cause: &exec.Error{Kind: exec.KindValue, Msg: "inner"}}
	failed := objstore.NewObject("jobf.2", "task 'boom'")
	failed.Complete(exec.None, want, "n2")
	nw.serveObject(failed)

	reader := nw.remoteObject("jobf.2", "task 'boom'", nw.addr)
	v, got := reader.Result()
	if got == nil {
		t.Fatalf("read %s, want the object's error", v.Repr())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fetched error %+v, want %+v", got, want)
	}
	if reader.Name() != "task 'boom'" {
		t.Fatalf("the stand-in is named %q", reader.Name())
	}
}
