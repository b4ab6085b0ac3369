def handle(message):
    return message
