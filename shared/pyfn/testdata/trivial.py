# The trivial function of shared/pyfn's benchmark: the message, unchanged.
def process(message, consumer_name, metadatas):
    return message
