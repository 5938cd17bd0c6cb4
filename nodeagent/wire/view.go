package wire

import "github.com/rayflow/rayflow/internal/codec"

// ViewNode is one alive node of a head's GCSView reply: where it serves,
// what it has, and what the global scheduler holds free on it now.
type ViewNode struct {
	ID, Addr         string
	Total, Available map[string]float64
	QueueLen         int
}

// EncodeView encodes a GCSView reply.
func EncodeView(nodes []ViewNode) []byte {
	w := &codec.Encoder{}
	w.Uvarint(uint64(len(nodes)))
	for _, n := range nodes {
		w.String(n.ID)
		w.String(n.Addr)
		w.FloatMap(n.Total)
		w.FloatMap(n.Available)
		w.Uvarint(uint64(n.QueueLen))
	}
	return w.Bytes()
}

// DecodeView decodes a GCSView reply.
func DecodeView(payload []byte) ([]ViewNode, error) {
	r := codec.NewDecoder(payload)
	n := r.Count(5)
	out := make([]ViewNode, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		v := ViewNode{ID: r.String(), Addr: r.String(), Total: ReadResources(r), Available: ReadResources(r)}
		v.QueueLen = int(r.Uvarint())
		out = append(out, v)
	}
	if err := r.Finish(); err != nil {
		return nil, Err(r)
	}
	return out, nil
}
