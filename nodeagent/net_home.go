package nodeagent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// homeNode is the node a driver's code counts as running on: the node
// of the first head that answers it (a driver offers no CPUs and is no
// node of the cluster, but sys.node() must name a node of sys.nodes(),
// as it does embedded). Found once per driver; "" when no head says.
func (nw *network) homeNode() string {
	if !nw.cfg.Driver {
		return nw.c.Head().ID
	}
	nw.home.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, addr := range nw.hc.Order() {
			reply, err := nw.hc.CallAt(ctx, addr, transport.GCSRequest, []byte{wire.GCSStatus})
			if err != nil {
				continue
			}
			var st head.Status
			if json.Unmarshal(reply, &st) != nil {
				continue
			}
			for _, n := range st.Nodes {
				if n.Address == addr && n.State == "alive" {
					nw.home.id = n.ID
					return
				}
			}
		}
	})
	return nw.home.id
}
