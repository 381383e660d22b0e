// Package mqtt subscribes OneMap to an MQTT broker on which an IoT platform
// publishes tags' events (the JSON of the signed ingest: {"events": [...]},
// or one event alone), and hands each message to a function: the server's
// tag ingest (api.TagIngester) under the source configured for the broker.
// The broker authenticates the platform; OneMap trusts the broker and the
// topic as the signed ingest trusts a source's key, so the messages are
// applied as that source's (its kinds, its region, its audit records).
//
// It is not a broker and keeps no messages: with QoS 1 and a persistent
// session (clean session off) the broker holds what arrives while OneMap is
// away, and a message is acknowledged after the handler returns.
package mqtt

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Config is a subscription.
type Config struct {
	URL      string // tcp://host:1883, ssl://host:8883, ws://…
	Topic    string // a topic filter, e.g. onemap/tags/#
	ClientID string // the session's name at the broker (one per server)
	Username string
	Password string
	QoS      byte // 0 or 1 (default 1)
	Log      *slog.Logger
}

// Handler handles one message; an error is logged (the message is not
// redelivered: a message that fails once fails again).
type Handler func(ctx context.Context, topic string, payload []byte) error

// Run subscribes to the topic and calls h with each message, one at a time
// in the order they arrive, until ctx ends; it reconnects and subscribes
// again by itself after the broker goes away. It returns an error only if
// the first connection fails.
func Run(ctx context.Context, c Config, h Handler) error {
	if c.QoS > 1 {
		return fmt.Errorf("mqtt: QoS %d: want 0 or 1", c.QoS)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.ClientID == "" {
		c.ClientID = "onemap"
	}
	onMessage := func(_ paho.Client, m paho.Message) {
		if err := h(ctx, m.Topic(), m.Payload()); err != nil {
			c.Log.Warn("mqtt: message not applied", "topic", m.Topic(), "error", err)
		}
	}
	o := paho.NewClientOptions().AddBroker(c.URL).SetClientID(c.ClientID).SetUsername(c.Username).SetPassword(c.Password).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(false).SetOrderMatters(true).
		SetConnectTimeout(10 * time.Second).SetKeepAlive(30 * time.Second)
	o.SetOnConnectHandler(func(cl paho.Client) {
		t := cl.Subscribe(c.Topic, c.QoS, onMessage)
		if t.WaitTimeout(10*time.Second) && t.Error() == nil {
			c.Log.Info("mqtt: subscribed", "url", c.URL, "topic", c.Topic)
			return
		}
		c.Log.Error("mqtt: subscribe failed", "topic", c.Topic, "error", t.Error())
	})
	o.SetConnectionLostHandler(func(_ paho.Client, err error) { c.Log.Warn("mqtt: connection lost; reconnecting", "error", err) })
	cl := paho.NewClient(o)
	t := cl.Connect()
	if !t.WaitTimeout(15 * time.Second) {
		return fmt.Errorf("mqtt: connect to %s: no answer", c.URL)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("mqtt: connect to %s: %w", c.URL, err)
	}
	<-ctx.Done()
	cl.Disconnect(250)
	return nil
}
