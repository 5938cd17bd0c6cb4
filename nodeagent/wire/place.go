package wire

import (
	"fmt"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// PlaceRequest is one task or actor the global scheduler is asked to
// place; PlaceResult is its answer.
type PlaceRequest struct {
	Name   string
	Demand resources.Resources
	Origin string
	// ArgBytes says where the task's arguments live, for the locality
	// score: bytes by the address of the process holding them.
	ArgBytes []ArgBytesAt
	// Prefer is the address of the process a placement hint asks for
	// (locality, colocate); Spread the key of a spread call site. Both
	// empty without a hint (see placement.Request).
	Prefer, Spread string
}

// ArgBytesAt is how many bytes of a task's arguments the process at Addr
// holds.
type ArgBytesAt struct {
	Addr  string
	Bytes int64
}

// maxArgBytes bounds one argument size a Place message may carry (1 EiB):
// larger is malformed, and sums of sizes stay far from overflow.
const maxArgBytes = 1 << 60

type PlaceResult struct {
	Node, Addr string
	Queued     bool // no node has room now: the task waits in Node's queue
	Err        error
}

// writeArgBytes writes where a task's arguments live: a count, then each
// address and its bytes.
func writeArgBytes(w *codec.Encoder, held []ArgBytesAt) {
	w.Uvarint(uint64(len(held)))
	for _, h := range held {
		w.String(h.Addr)
		w.Uvarint(uint64(h.Bytes))
	}
}

// readArgBytes reads what writeArgBytes wrote; a size above maxArgBytes
// makes the message malformed.
func readArgBytes(r *codec.Decoder) []ArgBytesAt {
	n := r.Count(2)
	if n == 0 {
		return nil
	}
	held := make([]ArgBytesAt, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		addr, size := r.String(), r.Uvarint()
		if size > maxArgBytes {
			r.Fail("an argument size over the bound")
			return nil
		}
		held = append(held, ArgBytesAt{Addr: addr, Bytes: int64(size)})
	}
	return held
}

// EncodePlaceRequests writes a Place message: the tasks to place.
func EncodePlaceRequests(reqs []PlaceRequest) []byte {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(reqs)))
	for _, r := range reqs {
		w.String(r.Name)
		w.FloatMap(r.Demand.Map())
		w.String(r.Origin)
		writeArgBytes(w, r.ArgBytes)
		w.String(r.Prefer)
		w.String(r.Spread)
	}
	return w.Bytes()
}

// DecodePlaceRequests reads a Place message; readDemand reads each
// task's resource demand (the head caches them by their bytes).
func DecodePlaceRequests(payload []byte, readDemand func(*codec.Decoder) (resources.Resources, error)) ([]PlaceRequest, error) {
	r := codec.NewDecoder(payload)
	n := r.Count(4)
	reqs := make([]PlaceRequest, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		name := r.String()
		demand, err := readDemand(r)
		if err != nil {
			return nil, err
		}
		origin := r.String()
		held := readArgBytes(r)
		prefer, spread := r.String(), r.String()
		reqs = append(reqs, PlaceRequest{Name: name, Demand: demand, Origin: origin, ArgBytes: held, Prefer: prefer, Spread: spread})
	}
	if r.Err() != nil {
		return nil, Err(r)
	}
	return reqs, nil
}

// EncodePlaceResults writes the answer to a Place message, one result
// per request in order.
func EncodePlaceResults(results []PlaceResult) []byte {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(results)))
	for _, res := range results {
		w.String(res.Node)
		w.String(res.Addr)
		w.Bool(res.Queued)
		if res.Err != nil {
			w.String(res.Err.Error())
		} else {
			w.String("")
		}
	}
	return w.Bytes()
}

// DecodePlaceResults reads the answer to a Place message of want
// requests.
func DecodePlaceResults(payload []byte, want int) ([]PlaceResult, error) {
	r := codec.NewDecoder(payload)
	n := r.Count(3)
	if n != want {
		return nil, ErrMalformed
	}
	out := make([]PlaceResult, n)
	for i := range out {
		out[i].Node, out[i].Addr, out[i].Queued = r.String(), r.String(), r.Bool()
		if e := r.String(); e != "" {
			out[i].Err = fmt.Errorf("%s", e)
		}
	}
	return out, Err(r)
}
