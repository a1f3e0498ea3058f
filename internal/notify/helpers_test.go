package notify_test

import (
	"encoding/base64"
	"strings"
)

func decodeBase64Lines(data []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
}
