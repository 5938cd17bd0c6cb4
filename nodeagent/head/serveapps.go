package head

import (
	"strconv"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// serveAppsRequest answers the GCS requests on the applications of
// rayflow serve (wire.GCSServeApps, GCSPutServeApp, GCSDeleteServeApp)
// from store.
func serveAppsRequest(store *gcs.Store, op byte, body []byte) (*transport.Message, error) {
	ss, err := wire.DecodeStrings(body)
	if err != nil {
		return nil, wire.ErrMalformed
	}
	switch {
	case op == wire.GCSServeApps && (len(ss) == 0 || len(ss) == 1 && ss[0] == wire.ServeAppsApplied):
		// Linearizable (a raft barrier: a log write) unless asked for
		// this head's applied state: a deploy reads the version it
		// writes over; the ingresses' twice-a-second polls need not.
		var opts []gcs.ReadOption
		if len(ss) == 0 {
			opts = append(opts, gcs.Linearizable)
		}
		apps, err := store.ListServeApps(opts...)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, a := range apps {
			out = append(out, a.Name, strconv.FormatUint(a.Version, 10), string(a.Record))
		}
		return transport.Reply(wire.EncodeStrings(out...)), nil
	case op == wire.GCSPutServeApp && len(ss) == 4:
		version, err1 := strconv.ParseUint(ss[1], 10, 64)
		prev, err2 := strconv.ParseUint(ss[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, wire.ErrMalformed
		}
		err := store.PutServeAppIf(gcs.ServeApp{Name: ss[0], Version: version, Record: []byte(ss[2])}, prev).ErrorTimeout(5 * time.Second)
		switch {
		case gcs.IsConflict(err):
			return transport.Reply([]byte{0}), nil
		case err != nil:
			return nil, err
		}
		return transport.Reply([]byte{1}), nil
	case op == wire.GCSDeleteServeApp && len(ss) == 1:
		return nil, store.DeleteServeApp(ss[0]).ErrorTimeout(5 * time.Second)
	}
	return nil, wire.ErrMalformed
}
