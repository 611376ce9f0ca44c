"""The request composer widget (method, URL, headers, body, send) and its dialogs."""
