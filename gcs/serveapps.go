package gcs

import (
	"sort"

	"github.com/rayflow/rayflow/internal/codec"
)

// The applications of `rayflow serve` (package serve): one row per
// application deployed on the cluster, which the heads serve and
// `rayflow serve status` lists. A deploy writes version N+1 of an
// application only if its row is still at version N (PutServeAppIf), so
// that of two deploys at the same moment one fails with ErrConflict
// rather than overwrite the other's record.

// TableServeApps holds one ServeApp per application, keyed by its name.
const TableServeApps = "serveapps"

// ServeApp is an application's row: its version (1 for its first
// deploy, one more for each redeploy) and its record, which the GCS does
// not read (package serve's JSON).
type ServeApp struct {
	Name    string
	Version uint64
	Record  []byte
}

const serveAppRowVersion = 1

func (a *ServeApp) marshal(e *codec.Encoder) {
	e.Byte(serveAppRowVersion)
	e.String(a.Name)
	e.Uvarint(a.Version)
	e.Blob(a.Record)
}

func (a *ServeApp) unmarshal(d *codec.Decoder) {
	if v := d.Byte(); d.Err() == nil && v != serveAppRowVersion {
		d.Fail("unknown serve application row version")
		return
	}
	a.Name = d.String()
	a.Version = d.Uvarint()
	a.Record = d.BlobCopy()
}

// PutServeAppIf writes app if the stored application of its name is at
// version prev (0: if none is stored); otherwise it fails with
// ErrConflict.
func (s *Store) PutServeAppIf(app ServeApp, prev uint64) *Future {
	if app.Name == "" {
		return errEmptyID("serve application")
	}
	return s.submitRow(command{op: opPutServeAppIf, table: TableServeApps, key: app.Name, value: encodeRow(&app), size: int64(prev)})
}

// applyPutServeAppIf applies PutServeAppIf.
func applyPutServeAppIf(t *tables, key string, value []byte, prev int64, emit func(change)) error {
	old, ok := t.get(TableServeApps, key)
	if !ok {
		if prev != 0 {
			return ErrConflict
		}
		return applyPut(t, TableServeApps, key, value, emit)
	}
	var cur ServeApp
	if err := decodeRow(old, &cur); err != nil {
		return err
	}
	if cur.Version != uint64(prev) {
		return ErrConflict
	}
	return applyPut(t, TableServeApps, key, value, emit)
}

// ListServeApps returns every application's row, by name.
func (s *Store) ListServeApps(opts ...ReadOption) ([]ServeApp, error) {
	apps, err := listDecoded[ServeApp](s, TableServeApps, opts)
	if err != nil {
		return nil, err
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	return apps, nil
}

// DeleteServeApp removes an application's row.
func (s *Store) DeleteServeApp(name string) *Future {
	if name == "" {
		return errEmptyID("serve application")
	}
	return s.Delete(TableServeApps, name)
}
