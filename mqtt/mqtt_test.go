package mqtt_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/inmem"
	"github.com/onemapgis/onemap/internal/pgtest"
	"github.com/onemapgis/onemap/mqtt"
	"github.com/onemapgis/onemap/postgis"
)

// mosquittoBin is Debian's broker (apt package mosquitto; scripts/test.sh
// installs it).
const mosquittoBin = "/usr/sbin/mosquitto"

// startBroker starts a mosquitto on a free port of 127.0.0.1 for the test,
// as the tests start PostgreSQL, and returns its URL. Without mosquitto the
// test is skipped, but under CI=true it fails.
func startBroker(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(mosquittoBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mosquitto is not installed (%v), and CI needs it: apt-get install mosquitto (scripts/test.sh does)", err)
		}
		t.Skipf("mosquitto is not installed: apt-get install mosquitto")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mosquittoBin, "-c", conf)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto does not listen on %d", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", port)
}

// TestMQTT_tags: positions an IoT platform publishes on the broker reach
// the server through the subscription as the configured source's events:
// the tag moves on the live index ("where is it now") and its positions
// are stored (the track); a message of a revoked source is refused.
func TestMQTT_tags(t *testing.T) {
	broker := startBroker(t)
	url := pgtest.DemoURL(t)
	db := pgtest.Open(t, url)
	live := postgis.NewLive(db, nil, 0)
	tags := postgis.NewTags(db, postgis.TagOptions{})
	ctx := onemap.NewContext(t.Context(), onemap.Caller{Name: "system", Role: "system"})
	_, verifier := onemap.NewSourceKey()
	if _, err := live.AddSource(ctx, onemap.Source{Name: "iot", Kinds: []string{onemap.EventTagPosition}, Region: "532329000000"}, verifier); err != nil {
		t.Fatal(err)
	}
	catalog := onemap.NewCatalog()
	replica := inmem.New(catalog)
	if err := replica.LoadFrom(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, _ := api.NewServer(api.Deps{Log: log, Store: db, Replica: replica, Catalog: catalog, Policy: onemap.DefaultPolicy(),
		Accounts: db, Ingest: live, Alarms: live, Tags: tags, Static: http.NotFoundHandler()}, api.Config{})
	in := h.(api.TagIngester)
	applied := make(chan error, 10)
	handler := func(ctx context.Context, topic string, payload []byte) error {
		src, _, err := live.FindSource(ctx, "iot")
		if err == nil && src.Revoked() {
			err = onemap.Errorf(onemap.EFORBIDDEN, "revoked")
		}
		if err == nil {
			var res []onemap.IngestResult
			res, err = in.IngestTagJSON(ctx, src, payload)
			if err == nil && res[0].Outcome != onemap.IngestTaken {
				err = fmt.Errorf("%s: %s %s", res[0].Outcome, res[0].Field, res[0].Reason)
			}
		}
		applied <- err
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- mqtt.Run(runCtx, mqtt.Config{URL: broker, Topic: "onemap/tags/#", ClientID: "onemap-test", QoS: 1, Log: log}, handler)
	}()
	t.Cleanup(func() { cancel(); <-done })

	pub := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("iot-platform"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	msg := fmt.Sprintf(`{"events":[{"id":"m1","kind":"tag_position","tag":"TAG-000003","at":%q,"lon":102.41,"lat":25.55}]}`, at.Format(time.RFC3339))
	// The subscription may not be in place yet: publish until a message is applied.
	deadline := time.Now().Add(30 * time.Second)
	for got := false; !got; {
		if tok := pub.Publish("onemap/tags/shishan", 1, false, msg); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		select {
		case err := <-applied:
			if err != nil {
				t.Fatalf("the message was not applied: %v", err)
			}
			got = true
		case <-time.After(500 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no message arrived through the subscription")
			}
		}
	}
	tag, err := tags.FindTag(t.Context(), "TAG-000003")
	if err != nil {
		t.Fatal(err)
	}
	p, err := tags.PositionAt(t.Context(), tag.ID, at.Add(time.Second))
	if err != nil || !p.At.Equal(at) || p.Point[0] != 102.41 {
		t.Errorf("the position published: %+v %v, want 102.41, 25.55 at %s", p, err, at)
	}
	if _, err := live.RevokeSource(ctx, "iot"); err != nil {
		t.Fatal(err)
	}
	if tok := pub.Publish("onemap/tags/shishan", 1, false, msg); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	for {
		select {
		case err := <-applied:
			if err == nil || strings.HasPrefix(err.Error(), onemap.IngestDuplicate) {
				continue // a later copy of the first message, published before it was seen
			}
			if onemap.ErrorCode(err) != onemap.EFORBIDDEN {
				t.Errorf("a message of a revoked source: %v, want EFORBIDDEN", err)
			}
			return
		case <-time.After(30 * time.Second):
			t.Fatal("the message of the revoked source did not arrive")
		}
	}
}
