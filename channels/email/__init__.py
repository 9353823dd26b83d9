"""The email channel (inbound SMTP and Postmark, replies in the same thread). Declared here once it is built."""
