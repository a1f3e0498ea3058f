package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Colours of healthy and failing messages.
const (
	slackGreen   = "#2eb67d"
	slackRed     = "#e01e5a"
	discordGreen = 0x2eb67d
	discordRed   = 0xe01e5a
)

// postJSON posts body as JSON to endpoint with the given Authorization header
// (none when empty) and returns the response body of a 2xx answer.
func (s *Sender) postJSON(ctx context.Context, endpoint, authorization string, body any) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: invalid URL: %v", ErrMisconfigured, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	httpClient := s.HTTPClient
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting to %s: %w", redactURL(endpoint), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s answered %s: %s", redactURL(endpoint), resp.Status, excerpt(answer))
	}
	return answer, nil
}

// redactURL drops the path's secrets (Telegram puts the token in the path,
// Teams' webhook URLs carry a signature) from URLs shown in messages.
func redactURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the service"
	}
	return u.Scheme + "://" + u.Host
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if s == "" {
		return "(empty answer)"
	}
	return s
}

func baseURL(d secretData, key, def string) string {
	return strings.TrimRight(d.optional(key, def), "/")
}

func textWithAttachment(msg Message) string {
	text := msg.Text
	if msg.Attachment != nil {
		text = strings.TrimRight(text, "\n") + "\n" + attachmentLine(msg.Attachment)
	}
	return text
}

// Slack: chat.postMessage with a bot token, one coloured attachment.
// https://api.slack.com/methods/chat.postMessage
func (s *Sender) sendSlack(ctx context.Context, d secretData, msg Message) error {
	token, err := d.required(SlackTokenKey)
	if err != nil {
		return err
	}
	channel, err := d.required(SlackChannelIDKey)
	if err != nil {
		return err
	}
	color := slackRed
	if msg.Healthy {
		color = slackGreen
	}
	body := map[string]any{
		"channel": channel,
		"text":    msg.Title,
		"attachments": []map[string]any{{
			"color":     color,
			"title":     msg.Title,
			"text":      textWithAttachment(msg),
			"mrkdwn_in": []string{"text"},
		}},
	}
	answer, err := s.postJSON(ctx, baseURL(d, SlackURLKey, DefaultSlackURL)+"/api/chat.postMessage", "Bearer "+token, body)
	if err != nil {
		return err
	}
	// Slack answers 200 with ok=false on errors.
	var result struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return fmt.Errorf("slack answered something else than JSON: %s", excerpt(answer))
	}
	if !result.OK {
		return fmt.Errorf("slack refused the message: %s", result.Error)
	}
	return nil
}

// adaptiveCard is the card Teams and Webex show: the title, then one text block per line.
func adaptiveCard(msg Message, version string) map[string]any {
	titleColor := "Attention"
	if msg.Healthy {
		titleColor = "Good"
	}
	blocks := []map[string]any{{
		"type": "TextBlock", "text": msg.Title, "weight": "Bolder", "size": "Large", "wrap": true, "color": titleColor,
	}}
	for _, line := range strings.Split(strings.TrimRight(textWithAttachment(msg), "\n"), "\n") {
		if line == "" {
			continue
		}
		blocks = append(blocks, map[string]any{"type": "TextBlock", "text": line, "wrap": true})
	}
	return map[string]any{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": version,
		"body":    blocks,
	}
}

const adaptiveCardContentType = "application/vnd.microsoft.card.adaptive"

// Teams: an incoming webhook (or a Workflows webhook) posted a message with one
// Adaptive Card attachment.
func (s *Sender) sendTeams(ctx context.Context, d secretData, msg Message) error {
	webhook, err := d.required(TeamsWebhookURLKey)
	if err != nil {
		return err
	}
	if u, perr := url.Parse(webhook); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: %s in Secret %s is not an http(s) URL", ErrMisconfigured, TeamsWebhookURLKey, d.name)
	}
	body := map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": adaptiveCardContentType,
			"content":     adaptiveCard(msg, "1.4"),
		}},
	}
	_, err = s.postJSON(ctx, webhook, "", body)
	return err
}

// Webex: POST /v1/messages with a bot token, markdown plus an Adaptive Card.
// https://developer.webex.com/docs/api/v1/messages/create-a-message
func (s *Sender) sendWebex(ctx context.Context, d secretData, msg Message) error {
	token, err := d.required(WebexTokenKey)
	if err != nil {
		return err
	}
	room, err := d.required(WebexRoomIDKey)
	if err != nil {
		return err
	}
	// Webex markdown needs two trailing spaces for a line break.
	markdown := "**" + msg.Title + "**  \n" + strings.ReplaceAll(textWithAttachment(msg), "\n", "  \n")
	body := map[string]any{
		"roomId":   room,
		"markdown": markdown,
		"attachments": []map[string]any{{
			"contentType": adaptiveCardContentType,
			"content":     adaptiveCard(msg, "1.3"),
		}},
	}
	_, err = s.postJSON(ctx, baseURL(d, WebexURLKey, DefaultWebexURL)+"/v1/messages", "Bearer "+token, body)
	return err
}

// Discord: create a message in a channel with a bot token, one rich embed.
// https://discord.com/developers/docs/resources/message#create-message
func (s *Sender) sendDiscord(ctx context.Context, d secretData, msg Message) error {
	token, err := d.required(DiscordTokenKey)
	if err != nil {
		return err
	}
	channel, err := d.required(DiscordChannelIDKey)
	if err != nil {
		return err
	}
	color := discordRed
	if msg.Healthy {
		color = discordGreen
	}
	description := textWithAttachment(msg)
	if len(description) > 4000 { // Discord's limit is 4096
		description = description[:4000] + "..."
	}
	body := map[string]any{
		"content": msg.Title,
		"embeds": []map[string]any{{
			"type":        "rich",
			"title":       msg.Title,
			"description": description,
			"color":       color,
		}},
	}
	endpoint := baseURL(d, DiscordURLKey, DefaultDiscordURL) + "/api/v10/channels/" + url.PathEscape(channel) + "/messages"
	_, err = s.postJSON(ctx, endpoint, "Bot "+token, body)
	return err
}

// Telegram: the Bot API's sendMessage.
// https://core.telegram.org/bots/api#sendmessage
func (s *Sender) sendTelegram(ctx context.Context, d secretData, msg Message) error {
	token, err := d.required(TelegramTokenKey)
	if err != nil {
		return err
	}
	chat, err := d.required(TelegramChatIDKey)
	if err != nil {
		return err
	}
	var chatID any = chat
	if id, perr := strconv.ParseInt(strings.TrimSpace(chat), 10, 64); perr == nil {
		chatID = id
	} else if !strings.HasPrefix(chat, "@") {
		return fmt.Errorf("%w: %s in Secret %s must be a number or @channelusername", ErrMisconfigured, TelegramChatIDKey, d.name)
	}
	text := msg.Title + "\n" + textWithAttachment(msg)
	if len(text) > 4096 {
		text = text[:4093] + "..."
	}
	body := map[string]any{"chat_id": chatID, "text": text}
	endpoint := baseURL(d, TelegramURLKey, DefaultTelegramURL) + "/bot" + token + "/sendMessage"
	answer, err := s.postJSON(ctx, endpoint, "", body)
	if err != nil {
		return err
	}
	var result struct {
		OK          bool   `json:"ok"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return fmt.Errorf("telegram answered something else than JSON: %s", excerpt(answer))
	}
	if !result.OK {
		return fmt.Errorf("telegram refused the message: %s", result.Description)
	}
	return nil
}
