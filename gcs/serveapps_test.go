package gcs

import (
	"bytes"
	"testing"
)

// An application's row is written at version N+1 only while it is at
// version N (none stored: 0): of two deploys that read the same version,
// the second write fails with ErrConflict; a delete frees the name.
func TestServeAppConditionalWrites(t *testing.T) {
	st := openTest(t, nil)
	must(t, st.PutServeAppIf(ServeApp{Name: "app", Version: 1, Record: []byte("v1")}, 0))
	if err := st.PutServeAppIf(ServeApp{Name: "app", Version: 1, Record: []byte("v1 again")}, 0).Error(); !IsConflict(err) {
		t.Fatalf("a second first deploy: %v", err)
	}
	must(t, st.PutServeAppIf(ServeApp{Name: "app", Version: 2, Record: []byte("a")}, 1))
	if err := st.PutServeAppIf(ServeApp{Name: "app", Version: 2, Record: []byte("b")}, 1).Error(); !IsConflict(err) {
		t.Fatalf("a concurrent redeploy: %v", err)
	}
	must(t, st.PutServeAppIf(ServeApp{Name: "other", Version: 1}, 0))
	if err := st.PutServeAppIf(ServeApp{Name: "none", Version: 2}, 1).Error(); !IsConflict(err) {
		t.Fatalf("a redeploy of an application not stored: %v", err)
	}
	apps, err := st.ListServeApps(Linearizable)
	if err != nil || len(apps) != 2 || apps[0].Name != "app" || apps[0].Version != 2 || !bytes.Equal(apps[0].Record, []byte("a")) || apps[1].Name != "other" {
		t.Fatalf("apps %+v %v", apps, err)
	}
	must(t, st.DeleteServeApp("app"))
	must(t, st.PutServeAppIf(ServeApp{Name: "app", Version: 1}, 0))
}

// A snapshot written before the serveapps table reads with it empty.
func TestSnapshotBeforeServeAppsTable(t *testing.T) {
	old := "0101066b6e6f6465730200ff01056b6a6f62730201ff01096b70726f6772616d730202ff01066b7461736b730203ff01086b6f626a656374730204ff01076b6163746f72730205ff01066b73746174730206ff01086b6170696a6f62730207ff010b6b6170696a6f62646174610208ff"
	got, err := readTables(bytes.NewReader(mustHex(t, old)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rows[TableAPIJobData]) != 1 || len(got.rows[TableServeApps]) != 0 {
		t.Fatalf("old snapshot reads as %+v", got.rows)
	}
}
