package artifacts

import (
	"bytes"
	"os"
	"testing"
)

// TestFiles: the files come in emit's order with their names and modes
// (the two scripts executable), each kind's bytes are Render's, and the
// profile holds the bytes it was given.
func TestFiles(t *testing.T) {
	resp := plan("org/model")
	profileYAML := []byte("profile_version: 1\n")
	emit := []string{"k8s", "profile", "command", "compose", "docker"}
	outs, err := Files(emit, resp, DefaultOptions, profileYAML)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode os.FileMode
	}{{"k8s.yaml", 0o644}, {ProfileFile, 0o644}, {"serve_command.sh", 0o755}, {"docker-compose.yaml", 0o644}, {"docker_run.sh", 0o755}}
	if len(outs) != len(want) {
		t.Fatalf("%d files, want %d", len(outs), len(want))
	}
	for i, o := range outs {
		if o.Name != want[i].name || o.Mode != want[i].mode {
			t.Errorf("file %d: %s %o, want %s %o", i, o.Name, o.Mode, want[i].name, want[i].mode)
		}
		wantData := profileYAML
		if emit[i] != "profile" {
			if wantData, err = Render(Kind(emit[i]), resp, DefaultOptions); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(o.Data, wantData) {
			t.Errorf("%s: the bytes differ from what it should hold", o.Name)
		}
	}
	if _, err := Files([]string{"command"}, resp, Options{Port: -1}, nil); err == nil {
		t.Error("invalid options rendered, want an error")
	}
}
