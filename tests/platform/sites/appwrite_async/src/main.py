import asyncio


async def main(context):
    await asyncio.sleep(0)
    context.log("async", context.req.method, context.req.path)
    if context.req.path == "/slow":
        await asyncio.sleep(30)
    if context.req.path == "/boom":
        raise RuntimeError("async main failed")
    return context.res.json({"async": True, "method": context.req.method, "path": context.req.path})
