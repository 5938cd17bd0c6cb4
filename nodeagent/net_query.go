package nodeagent

import (
	"context"
	"sync"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/headclient"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// handleQuery answers a Query.
func (nw *network) handleQuery(ctx context.Context, payload []byte) (*transport.Message, error) {
	if len(payload) == 0 {
		return nil, wire.ErrMalformed
	}
	r := codec.NewDecoder(payload[1:])
	switch payload[0] {
	case wire.QueryActorWhere:
		id, dead, gen := r.String(), r.String(), int(r.Uvarint())
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		addr, newGen, gone := nw.ow.AnswerWhere(ctx, id, dead, gen)
		w := &codec.Encoder{}
		w.String(addr)
		w.Uvarint(uint64(newGen))
		w.String(gone)
		return transport.Reply(w.Bytes()), nil
	case wire.QueryDialable:
		return nw.handleDialable(payload[1:])
	case wire.QueryReleaseObjects:
		return nil, nw.handleReleaseObjects(payload[1:])
	case wire.QueryUnborrow, wire.QueryEscaped:
		return nil, nw.handleBorrowQuery(payload[0], payload[1:]) // borrow.go
	case wire.QueryRelease, wire.QueryReleaseKeep:
		return nil, nw.handleRelease(payload[1:], payload[0] == wire.QueryReleaseKeep)
	case wire.QueryHeld, wire.QueryAdopt:
		return nw.handleReuseQuery(payload[0], payload[1:]) // reuse.go
	case wire.QueryNamedActor:
		return nw.handleNamed(payload[1:])
	case wire.QueryLoadProgram:
		return nil, nw.handleLoadProgram(payload[1:])
	case wire.QueryWorkDir, wire.QueryWorkDirArchive:
		return nw.workdirs.handleQuery(payload[0], payload[1:])
	case wire.QueryTimeline:
		return nw.handleTimelineQuery(ctx, payload[1:])
	case wire.QueryReportEvents:
		return nil, nw.handleReportEvents(payload[1:])
	case wire.QueryFlushEvents:
		nw.reportEvents(ctx)
		return nil, nil
	case wire.QueryState:
		return nw.handleStateQuery(ctx, payload[1:])
	case wire.QueryObjects:
		return nw.handleObjectsQuery(payload[1:])
	case wire.QueryJobAlive:
		ended, err := nw.handleJobAlive(payload[1:])
		if err != nil || len(ended) == 0 {
			return nil, err
		}
		return transport.Reply(wire.EncodeStrings(ended...)), nil
	case wire.QueryLineage:
		ids := make([]string, r.Count(1))
		for i := range ids {
			ids[i] = r.String()
		}
		if r.Err() != nil {
			return nil, wire.Err(r)
		}
		b := nw.heldLineage(ids)
		return transport.Reply(b.Encode()), nil
	}
	return nil, wire.ErrMalformed
}

// heldLineage is what this process holds of some tasks' lineage: in its
// stash, and in its log of its calls on actors (their places in the
// actors' orders, and the calls made on actors created elsewhere).
func (nw *network) heldLineage(ids []string) stash.Bundle {
	b := nw.c.lineage.localBundle(ids)
	for _, id := range ids {
		b.Outcomes = append(b.Outcomes, nw.ow.Orders().Outcomes(id)...)
		if call := nw.ow.Orders().Call(id); call != nil {
			b.Records = append(b.Records, stash.RecordEntry{Record: taskRecord(call, nw.c.Head().ID, nw)})
		}
	}
	return b
}

// localBundle is what this process's stash holds of some tasks.
func (l *lineage) localBundle(ids []string) stash.Bundle {
	var b stash.Bundle
	if l == nil || l.stash == nil {
		return b
	}
	for _, id := range ids {
		got, ok := l.stash.LookupLocal(id)
		if !ok {
			continue
		}
		if got.Record.TaskID != "" {
			b.Records = append(b.Records, stash.RecordEntry{Record: got.Record})
		}
		for _, o := range got.Outcomes {
			b.Outcomes = append(b.Outcomes, stash.OutcomeEntry{Outcome: o})
		}
	}
	return b
}

// stashQueryTimeout bounds how long recovery waits for one process's
// stash to answer.
const stashQueryTimeout = 3 * time.Second

// askStashes gathers what this process's stash and the stashes of the
// live processes of the cluster hold of some tasks. A process that does
// not answer in time is skipped: whatever it held is either in the GCS
// or lost with it.
func (nw *network) askStashes(ids []string) stash.Bundle {
	all := nw.heldLineage(ids)
	if nw.c.lineage == nil || nw.c.lineage.stash == nil || len(ids) == 0 {
		return all
	}
	w := &codec.Encoder{}
	w.Byte(wire.QueryLineage)
	w.Uvarint(uint64(len(ids)))
	for _, id := range ids {
		w.String(id)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	addrs := nw.liveAddrs(ctx)
	cancel()
	for _, addr := range addrs {
		if addr == nw.addr {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), stashQueryTimeout)
			defer cancel()
			rep, err := nw.pool.Call(ctx, addr, transport.Query, w.Bytes())
			if err != nil {
				return
			}
			b, err := stash.DecodeBundle(rep.Payload)
			if err != nil {
				return
			}
			mu.Lock()
			all.Records = append(all.Records, b.Records...)
			all.Outcomes = append(all.Outcomes, b.Outcomes...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

// nodeStates reads the membership table from a head.
func (nw *network) nodeStates(ctx context.Context) ([]headclient.NodeState, error) {
	rep, err := nw.hc.GCS(ctx, wire.GCSNodeStates, nil)
	if err != nil {
		return nil, err
	}
	ss, err := wire.DecodeStrings(rep)
	if err != nil {
		return nil, err
	}
	out := make([]headclient.NodeState, 0, len(ss)/4)
	for i := 0; i+3 < len(ss); i += 4 { // each row: ID, address, state, epoch
		out = append(out, headclient.NodeState{Addr: ss[i+1], State: ss[i+2], Epoch: ss[i+3]})
	}
	return out, nil
}

// liveAddrs lists the addresses of the nodes the heads hold alive.
func (nw *network) liveAddrs(ctx context.Context) []string {
	states, _ := nw.nodeStates(ctx)
	var out []string
	for _, n := range states {
		if n.State == gcs.NodeAlive {
			out = append(out, n.Addr)
		}
	}
	return out
}
