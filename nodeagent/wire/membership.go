package wire

import (
	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/placement"
)

func EncodeRegister(id, addr string, total map[string]float64, isHead bool) []byte {
	w := &codec.Encoder{}
	w.String(id)
	w.String(addr)
	w.FloatMap(total)
	w.Bool(isHead)
	return w.Bytes()
}

func DecodeRegister(b []byte) (string, string, map[string]float64, bool, error) {
	r := codec.NewDecoder(b)
	id, addr, total, isHead := r.String(), r.String(), ReadResources(r), r.Bool()
	return id, addr, total, isHead, Err(r)
}

func EncodeHeartbeat(id string, epoch uint64, st placement.NodeState, actors int) []byte {
	w := &codec.Encoder{}
	w.String(id)
	w.Uvarint(epoch)
	w.FloatMap(st.Available.Map())
	w.Uvarint(uint64(st.QueueLen))
	w.Uvarint(uint64(st.Running))
	w.Uvarint(uint64(actors))
	return w.Bytes()
}

// Heartbeat is what a node reports to the heads every HeartbeatEvery.
type Heartbeat struct {
	ID                        string
	Epoch                     uint64
	Free                      map[string]float64
	QueueLen, Running, Actors int
}

// DecodeHeartbeat reads what EncodeHeartbeat wrote.
func DecodeHeartbeat(payload []byte) (Heartbeat, error) {
	r := codec.NewDecoder(payload)
	hb := Heartbeat{ID: r.String(), Epoch: r.Uvarint(), Free: ReadResources(r)}
	hb.QueueLen, hb.Running, hb.Actors = int(r.Uvarint()), int(r.Uvarint()), int(r.Uvarint())
	return hb, Err(r)
}
