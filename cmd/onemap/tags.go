package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/api"
	"github.com/onemapgis/onemap/mqtt"
	"github.com/onemapgis/onemap/postgis"
)

// tagFlags registers the flags of e-bike tags: how long positions are
// kept, and the MQTT broker an IoT platform publishes positions on.
func (f *flags) tagFlags(c *config) {
	f.dur(&c.TagRetention, "tag-retention", onemap.TagRetentionDefault, "how long tags' positions are kept (whole days: older days are dropped hourly)")
	f.str(&c.MQTTURL, "mqtt-url", "", "subscribe to tags' events on this MQTT broker (tcp://host:1883, ssl://host:8883); default: none")
	f.str(&c.MQTTTopic, "mqtt-topic", "onemap/tags/#", "the MQTT topic filter the IoT platform publishes tags' events on")
	f.str(&c.MQTTSource, "mqtt-source", "", "the source (onemap source add) whose events the MQTT messages are: its kinds, region and audit records")
	f.str(&c.MQTTClientID, "mqtt-client-id", "onemap", "this server's MQTT client id (its persistent session at the broker; one per server)")
	f.str(&c.MQTTUsername, "mqtt-username", "", "the MQTT user name, if the broker asks for one")
	f.secret(&c.MQTTPassword, "mqtt-password", "the MQTT password, if the broker asks for one")
}

// checkTagFlags refuses tag flags that cannot work, before the database
// is opened.
func checkTagFlags(c *config) error {
	if c.TagRetention < 24*time.Hour {
		return onemap.Errorf(onemap.EINVALID, "--tag-retention %s: positions are kept by whole days: want at least 24h", c.TagRetention)
	}
	if c.MQTTURL == "" {
		return nil
	}
	if !strings.HasPrefix(c.MQTTURL, "tcp://") && !strings.HasPrefix(c.MQTTURL, "ssl://") && !strings.HasPrefix(c.MQTTURL, "tls://") &&
		!strings.HasPrefix(c.MQTTURL, "ws://") && !strings.HasPrefix(c.MQTTURL, "wss://") && !strings.HasPrefix(c.MQTTURL, "mqtt://") {
		return onemap.Errorf(onemap.EINVALID, "--mqtt-url %.80q: want tcp://host:1883, ssl://host:8883, ws:// or wss://", c.MQTTURL)
	}
	if c.MQTTSource == "" {
		return onemap.Errorf(onemap.EINVALID, "--mqtt-url needs --mqtt-source: the source whose events the messages are")
	}
	if c.MQTTTopic == "" {
		return onemap.Errorf(onemap.EINVALID, "--mqtt-topic: want a topic filter (onemap/tags/#)")
	}
	return nil
}

// tagRetentionEvery is how often old days of positions are dropped.
const tagRetentionEvery = time.Hour

// runTags starts the tags' work until ctx ends: the retention job, the
// following of what other servers write of tags (followTags), and the
// MQTT subscription if --mqtt-url is set (its source must exist and not be
// revoked; a first connection that fails stops the server).
func runTags(ctx context.Context, c *config, live *postgis.Live, tags *postgis.Tags, in api.TagIngester, log *slog.Logger) error {
	go dropOldPositions(ctx, tags, log)
	if f, ok := in.(api.TagFollower); ok {
		go followTags(ctx, tags, f, log)
	}
	if c.MQTTURL == "" {
		return nil
	}
	if c.MQTTSource == "" {
		return onemap.Errorf(onemap.EINVALID, "--mqtt-url needs --mqtt-source: the source whose events the messages are")
	}
	if _, _, err := live.FindSource(ctx, c.MQTTSource); err != nil {
		return fmt.Errorf("--mqtt-source %s: %w", c.MQTTSource, err)
	}
	errc := make(chan error, 1)
	go func() {
		errc <- mqtt.Run(ctx, mqtt.Config{URL: c.MQTTURL, Topic: c.MQTTTopic, ClientID: c.MQTTClientID, Username: c.MQTTUsername,
			Password: c.MQTTPassword, QoS: 1, Log: log}, MQTTHandler(live, c.MQTTSource, in, log))
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(20 * time.Second): // connected (Run returns at once when it cannot)
		return nil
	}
}

// MQTTHandler applies each message as the events of source name, looked
// up for each message (a source revoked meanwhile is refused).
func MQTTHandler(live *postgis.Live, name string, in api.TagIngester, log *slog.Logger) mqtt.Handler {
	return func(ctx context.Context, topic string, payload []byte) error {
		src, _, err := live.FindSource(ctx, name)
		if err != nil {
			return err
		}
		if src.Revoked() {
			return onemap.Errorf(onemap.EFORBIDDEN, "source %s was revoked", name)
		}
		res, err := in.IngestTagJSON(ctx, src, payload)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Outcome == onemap.IngestRefused {
				log.Warn("mqtt: event refused", "topic", topic, "id", r.ID, "field", r.Field, "reason", r.Reason)
			}
		}
		return nil
	}
}

// dropOldPositions drops the days of positions past the retention, at
// start and every tagRetentionEvery, until ctx ends.
func dropOldPositions(ctx context.Context, tags *postgis.Tags, log *slog.Logger) {
	tick := time.NewTicker(tagRetentionEvery)
	defer tick.Stop()
	for {
		if dropped, err := tags.DropOldPositions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("tags: dropping old positions failed", "error", err)
		} else if len(dropped) > 0 {
			log.Info("tags: old positions dropped", "days", dropped)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// followTags moves the tags other servers take positions of on this
// server's live index, and reloads it when they change the geofences,
// reconnecting a second after the database's connection fails (and then
// reloading the index: what was notified meanwhile is lost), until ctx
// ends.
func followTags(ctx context.Context, tags *postgis.Tags, f api.TagFollower, log *slog.Logger) {
	reload := func() {
		if err := f.ReloadTags(ctx); err != nil && ctx.Err() == nil {
			log.Warn("tags: reloading the live index failed", "error", err)
		}
	}
	first := true
	for {
		err := tags.ListenTags(ctx, func() {
			if !first {
				reload()
			}
			first = false
		}, func(n postgis.TagNotice) {
			if n.Fences {
				reload()
				return
			}
			f.MoveTags(n.Positions)
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("tags: following other servers failed; again in a second", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
