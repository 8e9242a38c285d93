from app.templates import render


async def welcome(request):
    return render("welcome.html", user=request.user)  # expect
