# Reproduces: https://github.com/BittnerPierre/AI-Agent-Casebook/issues/131 — an async LangGraph node pulls a prompt with the synchronous langsmith Client
from langsmith import Client


async def planning_node(state):
    client = Client()
    planner_prompt = client.pull_prompt("video-script-planner-prompt")  # expect
    return {"plan": await planner_prompt.ainvoke({"topic": state["topic"]})}
